// 权益: offers by scene, eligible or what is missing; 附近 asks for the location (gcj02) and sorts by distance.
const {credentials, openPage, text, tap, signInAs, mine} = require('./harness/app.js')

test('offers by scene, eligible or what is missing, and nearby', async () => {
  const person = credentials().citizens.find((c) => c.level === 2)
  await signInAs(person)
  const offers = await mine('/mp/v1/me/offers')
  const comp = await openPage('pages/offers/offers')
  expect(text(comp)).toContain(`您的信用等级：${offers.level_name}`)
  for (const offer of offers.qualified) expect(text(comp)).toContain(`${offer.title} ✓ 可享受`)
  const missing = offers.others.find((o) => o.lacks.length)
  expect(text(comp)).toContain(`${missing.title} ✗ 暂不可享受`)
  expect(text(comp)).toContain(`暂不可享受的原因：${missing.lacks[0].message}`)

  const scene = missing.scene
  await tap(comp, `#scene-${scene.code}`)
  const inScene = await mine(`/mp/v1/me/offers?scene=${scene.code}`)
  const titles = [...inScene.qualified, ...inScene.others].map((o) => o.title)
  expect(comp.querySelectorAll('.offer')).toHaveLength(titles.length)

  await tap(comp, '#scene-all')
  await tap(comp, '#nearby')
  expect(called('getLocation').pop()).toMatchObject({type: 'gcj02'})
  expect(text(comp)).toContain('按距离排序')
  const query = device.requests.filter(([m, p]) => m === 'GET' && p.startsWith('/mp/v1/me/offers')).pop()[1]
  expect(query).toContain(`lat=${device.location.latitude}`)
  expect(query).toContain(`lng=${device.location.longitude}`)
  const near = await mine(query)
  const byDistance = [...near.qualified, ...near.others].filter((o) => o.distance_m !== null)
    .sort((a, b) => a.distance_m - b.distance_m)
  expect(byDistance.length).toBeGreaterThan(1)
  const shown = comp.querySelectorAll('.offer').map((node) => text(node))
  expect(shown).toHaveLength(near.qualified.length + near.others.length)
  byDistance.forEach((offer, i) => {
    expect(shown[i]).toContain(offer.title)
    expect(shown[i]).toContain(`最近门店：${offer.nearest_branch}`)
  })
})

test('without location permission it says so and keeps the list', async () => {
  const comp = await openPage('pages/offers/offers')
  const before = comp.querySelectorAll('.offer').length
  device.location = null
  await tap(comp, '#nearby')
  expect(text(comp)).toContain('未获得位置授权')
  expect(comp.querySelectorAll('.offer')).toHaveLength(before)
})
