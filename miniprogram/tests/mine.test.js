// 我的: consents (withdrawing scoring consent says what follows first), who looked at my data by name,
// partner-city attestations, 大字模式, and unbinding.
const {credentials, openPage, text, tap, signInAs, mine, server} = require('./harness/app.js')

const HEX = /\b[0-9a-f]{16,}\b/

test('who looked at my data: names, never hex ids', async () => {
  const cred = credentials()
  const person = cred.citizens[1]
  await signInAs(person)
  const trail = await mine('/mp/v1/me/audit?per_page=20')
  const comp = await openPage('pages/audit/audit')
  for (const entry of trail.items) expect(text(comp)).toContain(entry.who)
  expect(trail.items.some((e) => e.who_type === 'department')).toBe(true)
  expect(text(comp)).not.toMatch(HEX)
})

test('an attestation for a partner city is issued and listed with its status', async () => {
  const partner = credentials().partners.registry.find((p) => p.status === 'active')
  const comp = await openPage('pages/mine/mine')
  await tap(comp, '#grant-partner_sharing')
  const consents = (await mine('/mp/v1/me/consents')).consents
  expect(consents.find((c) => c.kind === 'partner_sharing').granted).toBe(true)

  const page = await openPage('pages/attestations/attestations')
  page.querySelector('#partner').dispatchEvent('input', {detail: {value: partner.city_code}})
  await tap(page, '#issue')
  const issued = await mine('/mp/v1/me/attestations')
  expect(issued).toHaveLength(1)
  expect(text(page)).toContain(`已出具给${partner.city_name}`)
  expect(text(page)).toContain(`${partner.city_name}`)
  expect(text(page)).toContain('有效')

  await tap(page, '.revoke')
  const [revoked] = await mine('/mp/v1/me/attestations')
  expect(revoked.state).toBe('revoked')
  expect(text(page)).toContain('已撤销')
})

test('withdrawing scoring consent explains the consequences first, then the score is gone', async () => {
  const comp = await openPage('pages/mine/mine')
  expect(text(comp)).toContain('信用评分授权 已授权')
  const texts = (await server('GET', '/mp/v1/client-settings')).data.consents
  for (const consent of texts) expect(text(comp)).toContain(`（版本 ${consent.version}）`)
  await tap(comp, '#withdraw-scoring')
  // Nothing is withdrawn yet: the consequences are on screen with a confirm button.
  expect((await mine('/mp/v1/me/consents')).consents.find((c) => c.kind === 'scoring').granted).toBe(true)
  expect(text(comp)).toContain('撤回后将不再计算和显示您的信用分')
  await tap(comp, '#confirm')
  expect((await mine('/mp/v1/me/consents')).consents.find((c) => c.kind === 'scoring').granted).toBe(false)
  expect(text(comp)).toContain('信用评分授权 未授权')
  // 首页 now says why there is no score instead of a number.
  const {access_token: token} = require('../api/index.js').session()
  const refusal = await server('GET', '/mp/v1/me/score', {token})
  expect(refusal.status).toBeGreaterThanOrEqual(400)
  const home = await openPage('pages/home/home')
  expect(home.querySelector('#total')).toBeFalsy()
  expect(text(home)).toContain(refusal.data.message)
  await tap(comp, '#grant-scoring')
  expect((await mine('/mp/v1/me/consents')).consents.find((c) => c.kind === 'scoring').granted).toBe(true)
})

test('大字模式 enlarges the text, and WeChat\'s font scale is followed', async () => {
  const comp = await openPage('pages/mine/mine')
  const root = () => comp.querySelector('.page').dom
  expect(root().className).not.toContain('elder')
  await tap(comp, '#big-text')
  expect(root().className).toContain('elder')
  expect(text(comp)).toContain('大字模式（长辈模式） 已开启')
  await tap(comp, '#big-text')
  device.fontScale = 1.5
  const scaled = await openPage('pages/home/home')
  expect(scaled.querySelector('.page').dom.getAttribute('style')).toContain('font-size: 48px') // simulate turns rpx into px
  expect(scaled.querySelector('.page').dom.className).toContain('elder')
  device.fontScale = 1
})

test('unbinding asks first, then the account is no longer bound', async () => {
  const {access_token: token} = require('../api/index.js').session()
  const comp = await openPage('pages/mine/mine')
  expect(text(comp)).toContain('身份证号码：')
  expect(text(comp)).not.toMatch(/\d{17}[\dX]/)
  await tap(comp, '#unbind')
  expect(text(comp)).toContain('解除绑定后，本微信账号将不能查看您的信用信息')
  await tap(comp, '#unbind-confirm')
  expect(called('reLaunch').pop().url).toBe('/pages/login/login')
  const after = await server('GET', '/mp/v1/me/score', {token})
  expect(after.status).toBe(401)
})
