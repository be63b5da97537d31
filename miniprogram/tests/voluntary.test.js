// 自愿注册: a type, the proof's issuer, the truth commitment signed; the server then holds the report.
const fs = require('fs')
const path = require('path')
const {credentials, openPage, text, tap, type, signInAs, mine, FIXTURES} = require('./harness/app.js')

test('a voluntary report with the truth commitment; a field error shows under its field', async () => {
  const person = credentials().citizens[8]
  await signInAs(person)
  const types = await mine('/mp/v1/me/voluntary-reports/types')
  const comp = await openPage('pages/voluntary/index')
  expect(text(comp)).toContain(`信息真实性承诺（版本 ${types.commitment_version}）`)
  const blood = types.types.find((t) => t.code === 'HN_BLOOD_DONATION')
  await tap(comp, `#type-${blood.code}`)
  await type(comp, '#occurred_at', '2026-11-02')
  await type(comp, '#quantity', '1')
  await type(comp, '#issuer', '绍')
  await tap(comp, '#accept')
  await tap(comp, '#submit')
  expect(comp.querySelector('#error-issuer')).toBeTruthy()
  expect((await mine('/mp/v1/me/voluntary-reports')).items).toHaveLength(0)

  await type(comp, '#issuer', '绍兴市中心血站')
  const proof = path.join(FIXTURES, 'receipt.png')
  device.chooseMedia = [{tempFilePath: proof, fileType: 'image', size: fs.statSync(proof).size}]
  await tap(comp, '#photos >>> #add-photo')
  await tap(comp, '#submit')
  const reports = (await mine('/mp/v1/me/voluntary-reports')).items
  expect(reports).toHaveLength(1)
  expect(reports[0].type).toBe(blood.code)
  expect(reports[0].evidence).toHaveLength(1)
  expect(text(comp)).toContain(reports[0].name)
})
