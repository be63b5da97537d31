// The api module: an access token the server no longer takes is renewed with the refresh token once; a body
// missing a field of the endpoint table is never sent; the server's Chinese message reaches the page.
const {credentials, signInAs, api} = require('./harness/app.js')

test('a rejected access token is refreshed once, and the call goes through', async () => {
  await signInAs(credentials().citizens[7])
  const before = api.session()
  api.saveSession({...before, access_token: 'not-a-token'})
  const score = await api.call('score')
  expect(typeof score.total).toBe('number')
  const after = api.session()
  expect(after.access_token).not.toBe('not-a-token')
  expect(after.refresh_token).not.toBe(before.refresh_token) // rotated by the server
})

test('with the refresh token refused too, the session is cleared and the way on is to sign in again', async () => {
  api.saveSession({access_token: 'not-a-token', refresh_token: 'mr_not-a-refresh-token'})
  const error = await api.call('score').catch((e) => e)
  expect(error).toBeInstanceOf(api.ApiError)
  expect(error.status).toBe(401)
  expect(error.way).toBe('rebind')
  expect(error.message).toMatch(/[\u4e00-\u9fa5]/)
  expect(api.session()).toBeNull()
})

test('a body without a field of the endpoint table is refused before sending', async () => {
  const sent = device.requests.length
  await expect(api.call('makeCommitment', {body: {type: 'CIVIL_ENV', accepted: true}}))
    .rejects.toThrow('text_version missing')
  await expect(api.call('whatIf', {body: {changes: [], extra: 1}})).rejects.toThrow('not in the endpoint table')
  expect(device.requests.length).toBe(sent)
})
