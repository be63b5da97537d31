// Sign-in and binding: wx.login → /mp/v1/session, the privacy popup resolved by the agree button, the scoring
// consent, a 422 shown under its field with what was typed kept, a network failure said as such, then bound.
const {credentials, openPage, text, tap, type, mine, find, settle, server} = require('./harness/app.js')

test('sign in, see a 422 under its field, survive a network failure, then bind', async () => {
  const person = credentials().citizens[4]
  device.loginCode = 'mp-login'
  const comp = await openPage('pages/login/login')
  expect(called('login')).toHaveLength(1)
  const scoring = (await server('GET', '/mp/v1/client-settings')).data.consents.find((c) => c.kind === 'scoring')
  expect(text(comp)).toContain(`${scoring.name}（版本 ${scoring.version}）`)
  expect(find(comp, '#consent-text').dom.textContent).toBe(scoring.text)

  // WeChat asks for privacy consent before a private API: the popup shows; the agree button resolves it.
  const handler = called('onNeedPrivacyAuthorization').pop()
  const resolve = jest.fn()
  handler(resolve)
  await tap(comp, '#refuse-privacy')
  expect(resolve).toHaveBeenLastCalledWith({event: 'disagree'})
  handler(resolve)
  expect(text(comp)).toContain('用户隐私保护提示')
  find(comp, '#agree-privacy').dispatchEvent('agreeprivacyauthorization')
  await settle()
  expect(resolve).toHaveBeenLastCalledWith({buttonId: 'agree-privacy', event: 'agree'})

  await type(comp, '#name', person.name)
  await type(comp, '#id_number', person.id_number)
  await type(comp, '#phone', '1381234')
  await tap(comp, '#consent-toggle')
  await tap(comp, '#submit')
  expect(find(comp, '#error-phone').dom.textContent).toBe('手机号码格式不正确。')
  expect(comp.querySelector('#error-name')).toBeFalsy()
  expect((await mine('/mp/v1/binding')).bound).toBe(false)

  await type(comp, '#phone', '13812345678')
  device.offline = true
  await tap(comp, '#submit')
  device.offline = false
  expect(text(comp)).toContain('网络连接失败')
  expect(text(comp)).toContain('重试')
  expect(comp.instance.data.form).toMatchObject({name: person.name, id_number: person.id_number, phone: '13812345678'})

  await tap(comp, '#submit')
  expect(called('reLaunch').pop().url).toBe('/pages/home/home')
  const binding = await mine('/mp/v1/binding')
  expect(binding.bound).toBe(true)
  const consents = (await mine('/mp/v1/me/consents')).consents
  expect(consents.find((c) => c.kind === 'scoring').granted).toBe(true)
})

test('a wrong name is refused with the API\'s message, and repeated failures lock binding', async () => {
  jest.resetModules()
  device.storage.clear()
  const person = credentials().citizens[5]
  device.loginCode = 'mp-login-wrong'
  const comp = await openPage('pages/login/login')
  await type(comp, '#name', '张冒名')
  await type(comp, '#id_number', person.id_number)
  await type(comp, '#phone', '13812345678')
  await tap(comp, '#submit')
  expect(text(comp)).toContain('姓名与身份证号码核验未通过')
  let locked = false
  for (let i = 0; i < 12 && !locked; i += 1) {
    await tap(comp, '#submit')
    locked = text(comp).includes('身份核验失败次数过多')
  }
  expect(locked).toBe(true)
})
