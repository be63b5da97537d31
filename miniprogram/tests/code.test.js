// 信用码: the QR on the page carries a fresh code that a merchant's terminal then verifies; the countdown renews
// it; the screen is bright while it shows and restored on leave; a restricted person sees the reason instead.
const {GifReader} = require('omggif')
const jsQR = require('jsqr')
const {credentials, openPage, text, settle, signInAs, server} = require('./harness/app.js')

// Reads the QR image the page shows, as a scanner would.
function scan(comp) {
  // j-component's <image> keeps no src; the page mirrors it in data-qr, the same string.
  const src = comp.querySelector('#qr')._exparserNode.dataset.qr
  expect(src).toMatch(/^data:image\/gif;base64,/)
  const gif = new GifReader(Buffer.from(src.split(',')[1], 'base64'))
  const pixels = new Uint8ClampedArray(gif.width * gif.height * 4)
  gif.decodeAndBlitFrameRGBA(0, pixels)
  const found = jsQR(pixels, gif.width, gif.height)
  expect(found).not.toBeNull()
  return found.data
}

function merchantOffer(cred, level) {
  for (const merchant of cred.merchants) {
    const offer = merchant.offers.find((o) => o.min_level <= level && !o.partner_only)
    if (offer) return {key: merchant.terminals[0].key, offer_id: offer.offer_id, branch_id: merchant.branches[0].branch_id}
  }
  throw new Error('no offer for this level')
}

afterEach(() => jest.restoreAllMocks())

test('the QR a merchant scans is a fresh code, verified once; the countdown renews it', async () => {
  const cred = credentials()
  const person = cred.citizens[0]
  await signInAs(person)
  device.brightness = 0.35
  const comp = await openPage('pages/code/code')
  expect(called('setScreenBrightness').pop()).toMatchObject({value: 1})
  expect(text(comp)).toContain(`信用等级：${person.level_name}`)
  expect(text(comp)).toMatch(/60 秒后自动刷新/)

  const code = scan(comp)
  const terminal = merchantOffer(cred, person.level)
  const verified = await server('POST', '/merchant/v1/verifications', {token: terminal.key,
    body: {code, offer_id: terminal.offer_id, branch_id: terminal.branch_id}})
  expect(verified.status).toBe(200)
  expect(verified.data).toMatchObject({eligible: true, reason: 'ok'})
  const again = await server('POST', '/merchant/v1/verifications', {token: terminal.key,
    body: {code, offer_id: terminal.offer_id, branch_id: terminal.branch_id}})
  expect(again.data.reason).toBe('already_used')

  // A minute later (the clock moved on), the page has asked for a new code by itself.
  const now = Date.now()
  jest.spyOn(Date, 'now').mockImplementation(() => now + 61000)
  await settle(1200)
  await comp.instance.__pending
  await settle()
  const renewed = scan(comp)
  expect(renewed).not.toBe(code)
  expect(text(comp)).toMatch(/60 秒后自动刷新/)

  comp.instance.onUnload()
  expect(called('setScreenBrightness').pop()).toMatchObject({value: 0.35})
})

test('a restricted person sees why there is no code', async () => {
  const person = credentials().citizens.find((c) => c.level === 0)
  jest.resetModules()
  device.storage.clear()
  await signInAs(person)
  const comp = await openPage('pages/code/code')
  expect(comp.querySelector('#qr')).toBeFalsy()
  const answer = await server('POST', '/mp/v1/me/credit-code', {token: require('../api/index.js').session().access_token})
  expect(answer.status).toBeGreaterThanOrEqual(400)
  expect(text(comp)).toContain('暂时不能出示信用码')
  expect(text(comp)).toContain(answer.data.message)
  comp.instance.onUnload()
})
