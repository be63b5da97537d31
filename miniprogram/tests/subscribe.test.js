// 接收微信提醒: wx.requestSubscribeMessage is called inside the tap with the template ids the server gives
// (GET /mp/v1/client-settings), and what the person accepted is recorded on the server.
const {credentials, openPage, text, tap, signInAs, mine, server} = require('./harness/app.js')

test('subscription messages: ask inside the tap, record what was accepted', async () => {
  await signInAs(credentials().citizens[7])
  const settings = await server('GET', '/mp/v1/client-settings')
  expect(settings.status).toBe(200)
  const comp = await openPage('pages/messages/messages')
  const templates = settings.data.subscription_templates
  expect(templates.length).toBeGreaterThan(0)
  device.subscribeAnswer = {[templates[0].template_id]: 'accept'}
  await tap(comp, '#subscribe')
  const asked = called('requestSubscribeMessage').pop()
  expect(asked.tmplIds).toEqual(templates.slice(0, 3).map((t) => t.template_id))
  const held = await mine('/mp/v1/me/message-subscriptions')
  expect(held.templates).toEqual([templates[0].kind])
  expect(text(comp)).toContain(`已订阅：${templates[0].name}`)

  device.subscribeAnswer = {}
  await tap(comp, '#subscribe')
  expect(text(comp)).toContain('您没有同意接收提醒')
})
