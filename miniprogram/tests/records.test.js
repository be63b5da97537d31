// 信用记录 and a record's page: filters, points, the date it stops counting, 提出异议 / 申请信用修复 or its date.
const {credentials, openPage, text, tap, signInAs, mine} = require('./harness/app.js')

test('records filter by dimension and status and show points and the date each stops counting', async () => {
  const person = credentials().citizens[9]
  await signInAs(person)
  const comp = await openPage('pages/records/records')
  const all = await mine('/mp/v1/me/records?per_page=100')
  expect(text(comp)).toContain(`共 ${all.total} 条`)

  await tap(comp, '#dimension-law')
  const law = await mine('/mp/v1/me/records?per_page=100&dimension=law')
  expect(text(comp)).toContain(`共 ${law.total} 条`)
  expect(law.total).toBeLessThan(all.total)
  const penalty = law.items.find((r) => r.counted && r.points < 0)
  expect(text(comp)).toContain(`${penalty.name}`)
  expect(text(comp)).toContain(`${penalty.points} 分`)
  const [y, m, d] = penalty.counts_until.split('-').map(Number)
  expect(text(comp)).toContain(`计分至 ${y}年${m}月${d}日`)

  await tap(comp, '#status-expired')
  const expired = await mine('/mp/v1/me/records?per_page=100&dimension=law&status=expired')
  expect(text(comp)).toContain(`共 ${expired.total} 条`)
})

test("an adverse record's page offers 提出异议 and 申请信用修复, or the date from which it can be repaired", async () => {
  const person = credentials().citizens[9]
  await signInAs(person)
  const adverse = (await mine('/mp/v1/me/records?per_page=100&status=active')).items.filter((r) => r.points < 0)
  expect(adverse.length).toBeGreaterThan(0)
  for (const record of adverse) {
    const preview = await mine(`/mp/v1/me/repairs/preview?record=${record.ref}`)
    const comp = await openPage('pages/records/detail', {ref: record.ref})
    expect(text(comp)).toContain(record.name)
    await tap(comp, '#object')
    expect(called('navigateTo').pop().url).toBe(`/pages/objection/objection?record=${record.ref}`)
    if (preview.can_apply) {
      await tap(comp, '#repair')
      expect(called('navigateTo').pop().url).toBe(`/pages/repair/repair?record=${record.ref}`)
    } else if (preview.repairable_from) {
      const [y, m, d] = preview.repairable_from.split('-').map(Number)
      expect(text(comp)).toContain(`自 ${y}年${m}月${d}日 起可申请信用修复`)
    } else {
      expect(comp.querySelector('#repair')).toBeFalsy()
    }
  }
})
