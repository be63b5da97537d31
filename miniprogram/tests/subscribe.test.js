// 接收微信提醒: wx.requestSubscribeMessage is called inside the tap with the template ids the server gives
// (GET /mp/v1/client-settings), and what the person accepted is recorded on the server. A server without client
// settings has no template ids to give: the page says so and asks WeChat for nothing.
const {credentials, openPage, text, tap, signInAs, mine, server} = require('./harness/app.js')

test('subscription messages: ask inside the tap, record what was accepted', async () => {
  await signInAs(credentials().citizens[7])
  const settings = await server('GET', '/mp/v1/client-settings', {token: require('../api/index.js').session().access_token})
  const comp = await openPage('pages/messages/messages')
  if (settings.status === 404) {
    await tap(comp, '#subscribe')
    expect(called('requestSubscribeMessage')).toHaveLength(0)
    expect(text(comp)).toContain('暂时无法订阅微信提醒')
    return
  }
  const templates = settings.data.subscription_templates
  expect(templates.length).toBeGreaterThan(0)
  device.subscribeAnswer = {[templates[0].template_id]: 'accept'}
  await tap(comp, '#subscribe')
  const asked = called('requestSubscribeMessage').pop()
  expect(asked.tmplIds).toEqual(templates.slice(0, 3).map((t) => t.template_id))
  const held = await mine('/mp/v1/me/message-subscriptions')
  expect(held.templates).toEqual([templates[0].kind])
  expect(text(comp)).toContain('已订阅')
})
