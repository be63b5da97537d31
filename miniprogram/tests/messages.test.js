// 消息: the unread count as the tab's badge; opening a message marks it read on the server.
const {credentials, openPage, text, tap, signInAs, mine} = require('./harness/app.js')

test('a message opened is read on the server and the badge goes down', async () => {
  const person = credentials().citizens.find((c) => c.level === 0)
  await signInAs(person)
  const before = await mine('/mp/v1/me/messages?per_page=50')
  expect(before.unread).toBeGreaterThan(0)
  const comp = await openPage('pages/messages/messages')
  expect(text(comp)).toContain(`未读 ${before.unread} 条`)
  expect(called('setTabBarBadge').pop()).toMatchObject({index: 2, text: String(before.unread)})
  const first = before.items.find((m) => !m.read)
  expect(text(comp)).toContain(first.title)

  await tap(comp, '.message.unread')
  expect(text(comp)).toContain(first.body.slice(0, 20))
  const after = await mine(`/mp/v1/me/messages/${first.ref}`)
  expect(after.read).toBe(true)
  expect(text(comp)).toContain(`未读 ${before.unread - 1} 条`)
  if (before.unread - 1 === 0) expect(called('removeTabBarBadge').length).toBeGreaterThan(0)
  else expect(called('setTabBarBadge').pop().text).toBe(String(before.unread - 1))
})
