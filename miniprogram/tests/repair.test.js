// 申请信用修复: the commitment's full text and version to sign, a photo of the proof, the case the server holds.
const fs = require('fs')
const path = require('path')
const {credentials, openPage, text, tap, signInAs, mine, FIXTURES} = require('./harness/app.js')

test('a repair is applied for with the commitment signed and a photo', async () => {
  const person = credentials().rights.repair_citizen
  await signInAs(person)
  const preview = await mine(`/mp/v1/me/repairs/preview?record=${person.record_ref}`)
  const comp = await openPage('pages/repair/repair', {record: person.record_ref})
  expect(text(comp)).toContain(`信用修复承诺书（版本 ${preview.commitment_version}）`)
  expect(text(comp)).toContain(preview.commitment_text.split('\n')[1])
  await tap(comp, '#submit')
  expect(text(comp)).toContain('请先阅读并签署信用修复承诺书')

  const png = path.join(FIXTURES, 'receipt.png')
  device.chooseMedia = [{tempFilePath: png, fileType: 'image', size: fs.statSync(png).size}]
  await tap(comp, '#photos >>> #add-photo')
  comp.querySelector('#statement').dispatchEvent('input', {detail: {value: '罚款已缴清'}})
  await tap(comp, '#sign')
  await tap(comp, '#submit')
  const ref = called('redirectTo').pop().url.split('ref=')[1]
  const held = await mine(`/mp/v1/me/cases/${ref}`)
  expect(held.kind).toBe('repair')
  expect(held.commitment_version).toBe(preview.commitment_version)
  expect(held.evidence).toHaveLength(1)
})
