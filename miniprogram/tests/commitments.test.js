// 信用承诺: the full text and version, the what-if before making one, then the commitment the server holds.
const {credentials, openPage, text, tap, signInAs, mine} = require('./harness/app.js')

test('what-if, then making a commitment, which then shows with its days left', async () => {
  const person = credentials().citizens[2]
  await signInAs(person)
  const types = await mine('/mp/v1/me/commitment-types')
  const type = types.find((t) => !t.held)
  const score = await mine('/mp/v1/me/score')
  const comp = await openPage('pages/commitments/index')
  await tap(comp, `#type-${type.code}`)
  expect(text(comp)).toContain(type.text.split('\n')[0])
  expect(text(comp)).toContain(`版本 ${type.text_version}`)
  const whatIf = comp.querySelector('#what-if').dom.textContent
  const after = Math.min(1000, score.total + type.points_kept)
  expect(whatIf).toMatch(new RegExp(`^作出并履行后 ${score.total} → ${after}，\\S+`))

  await tap(comp, '#accept')
  await tap(comp, '#make')
  const held = (await mine('/mp/v1/me/commitments')).items.find((c) => c.type === type.code)
  expect(held.status).toBe('active')
  expect(held.text_version).toBe(type.text_version)
  expect(text(comp)).toContain(`还剩 ${held.days_left} 天`)
})
