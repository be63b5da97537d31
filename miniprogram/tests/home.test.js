// 首页 shows the server's total, level and dimensions; the chart has 12 months; hints lead somewhere.
const {credentials, openPage, text, tap, signInAs, mine} = require('./harness/app.js')

test('home shows the score the server holds, with dimensions, chart and hints', async () => {
  const person = credentials().citizens[3]
  await signInAs(person)
  const comp = await openPage('pages/home/home')
  const score = await mine('/mp/v1/me/score')
  expect(comp.querySelector('#total').dom.textContent).toBe(String(score.total))
  expect(text(comp)).toContain(`等级：${score.level_name}`)
  for (const dimension of score.dimensions) {
    expect(text(comp)).toContain(`${dimension.name} ${dimension.points} / ${dimension.cap} 分`)
  }
  const months = comp.querySelectorAll('.chart-col')
  expect(months).toHaveLength(12)
  // This month's bar stands at today's total; the chart's months end with this one.
  expect(text(months[11])).toContain(String(score.total))
  expect(text(months[11])).toContain(`${Number(score.as_of.slice(5, 7))}月`)
  const hints = (await mine('/mp/v1/me/hints')).hints
  expect(hints.length).toBeGreaterThan(0)
  expect(text(comp)).toContain(hints[0].message)
  await tap(comp, '.hint-go')
  expect(called('navigateTo').pop().url).toMatch(/^\/pages\/(commitments|records|voluntary)\//)
})
