// 提出异议 with a photo: a non-image is refused before sending; the record turns disputed, the score rises, the
// case shows its deadline in working days.
const path = require('path')
const fs = require('fs')
const {credentials, openPage, text, tap, mine, signInAs, server, FIXTURES} = require('./harness/app.js')

test('an objection with a photo: record disputed, score up, case with deadline', async () => {
  const person = credentials().rights.objection_citizen
  await signInAs(person)
  const before = await mine('/mp/v1/me/score')
  const record = (await mine('/mp/v1/me/records?per_page=100')).items.find((r) => r.ref === person.record_ref)
  expect(record.status).toBe('active')

  const comp = await openPage('pages/objection/objection', {record: person.record_ref})
  const pdf = path.join(FIXTURES, 'notes.pdf')
  const png = path.join(FIXTURES, 'receipt.png')
  device.chooseMedia = [{tempFilePath: pdf, fileType: 'image', size: fs.statSync(pdf).size}]
  await tap(comp, '#photos >>> #add-photo')
  expect(text(comp)).toContain('不是 JPG 或 PNG 图片')
  expect(comp.instance.data.photos).toHaveLength(0)
  const second = path.join(FIXTURES, 'paid.png')
  device.chooseMedia = [png, second].map((file) => ({tempFilePath: file, fileType: 'image', size: fs.statSync(file).size}))
  await tap(comp, '#photos >>> #add-photo')
  expect(text(comp)).toContain('已选 2 张')

  await tap(comp, '#reason-wrong_facts')
  comp.querySelector('#reason_text').dispatchEvent('input', {detail: {value: '处罚决定已被撤销'}})
  const sentBefore = device.requests.length
  // Offline: the page says so and keeps the reason, the text and the photos.
  device.offline = true
  await tap(comp, '#submit')
  device.offline = false
  expect(text(comp)).toContain('网络连接失败')
  expect(text(comp)).toContain('◉ 事实有误')
  expect(comp.instance.data.text).toBe('处罚决定已被撤销')
  expect(text(comp)).toContain('已选 2 张')
  await tap(comp, '#submit')
  const sent = device.requests.slice(sentBefore).filter(([m]) => m !== 'GET')
  const uploads = sent.filter(([m]) => m === 'UPLOAD')
  // one request per photo to /me/evidence (the PDF never left the phone), then the objection with their ids
  expect(uploads.map(([, p]) => p)).toEqual(expect.arrayContaining(['/mp/v1/me/evidence']))
  expect(uploads.slice(-2).map(([, , name]) => name)).toEqual(['receipt.png', 'paid.png'])
  const filing = sent.filter(([m, p]) => m === 'POST' && p === '/mp/v1/me/objections').pop()
  expect(filing[2].evidence_ids).toHaveLength(2)

  const redirect = called('redirectTo').pop()
  expect(redirect.url).toMatch(/^\/pages\/rights\/case\?ref=/)
  const after = await mine('/mp/v1/me/score')
  expect(after.total).toBeGreaterThan(before.total)
  const disputed = (await mine('/mp/v1/me/records?per_page=100')).items.find((r) => r.ref === person.record_ref)
  expect(disputed.status).toBe('disputed')

  const ref = redirect.url.split('ref=')[1]
  const held = await mine(`/mp/v1/me/cases/${ref}`)
  expect(held.evidence).toHaveLength(2)
  const page = await openPage('pages/rights/case', {ref})
  expect(text(page)).toContain(`还剩 ${held.working_days_left} 个工作日`)
  expect(text(page)).toContain(held.state_name)
  for (const entry of held.timeline) expect(text(page)).toContain(entry.note)

  const list = await openPage('pages/cases/cases')
  expect(text(list)).toContain(`信用异议：${held.record.type_name}`)

  // The department answers, the credit centre decides: the case page shows the decision and its reason.
  const cred = credentials()
  const department = cred.departments.find((d) => d.name === held.department)
  const answered = await server('POST', `/api/v1/departments/me/objections/${ref}/answer`, {token: department.key,
    body: {finding: '经核查，处罚决定已被复议撤销'}})
  expect(answered.status).toBe(200)
  const login = await server('POST', '/api/v1/auth/token', {body: {username: cred.staff.username,
    password: cred.staff.password}})
  const decided = await server('POST', `/api/v1/rights/objections/${ref}/decision`, {token: login.data.access_token,
    body: {decision: 'upheld', reason: '记录确属错误，予以撤销'}})
  expect(decided.status).toBe(200)
  const done = await openPage('pages/rights/case', {ref})
  const final = await mine(`/mp/v1/me/cases/${ref}`)
  expect(text(done)).toContain(`状态：${final.state_name}`)
  expect(text(done)).toContain('处理理由：记录确属错误，予以撤销')
  expect(text(done)).not.toContain('撤回异议')
  const messages = await openPage('pages/messages/messages')
  const result = (await mine('/mp/v1/me/messages?per_page=50')).items.find((m) => m.related_ref === ref ||
    m.kind === 'case_result')
  expect(text(messages)).toContain(result.title)
})
