// Helpers for the flows: load a page as WeChat would, let it finish talking to the server, read what it shows,
// and talk to the same server as the other people in a story (a merchant's terminal, staff, a department).
const fs = require('fs')
const http = require('http')
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.resolve(__dirname, '..', '..')
const api = require('../../api/index.js')

function credentials() {
  return JSON.parse(fs.readFileSync(path.join(process.env.XYF_MP_INSTANCE, 'demo-credentials.json'), 'utf8'))
}

const TDESIGN_STUBS = Object.fromEntries(['t-button', 't-tag', 't-cell', 't-cell-group', 't-switch', 't-loading']
  .map((tag) => [tag, '/tests/stubs/tdesign/stub']))

// A page as WeChat shows it: loaded, attached, onLoad(query) run to its end (our onLoad returns its promise).
async function openPage(page, query = {}) {
  // simulate runs each component's JS with require(); jest caches modules, so a component used by a second page
  // (the notice) would not register again: each page loads in a module registry of its own.
  let id
  jest.isolateModules(() => {
    require('../../config.js').apiBase = process.env.XYF_MP_BASE
    id = simulate.load(path.join(ROOT, page), {rootPath: ROOT, compiler: 'simulate', usingComponents: TDESIGN_STUBS})
  })
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  if (comp.instance.onLoad) await comp.instance.onLoad(query)
  await settle()
  return comp
}

async function settle(ms = 30) {
  await simulate.sleep(ms)
}

// The text a person reads on the page (whitespace collapsed).
function text(comp) {
  const parts = []
  const walker = document.createTreeWalker(comp.dom, NodeFilter.SHOW_TEXT)
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue)
  return parts.join(' ').replace(/\s+/g, ' ').trim()
}

// 'photos >>> #add-photo' reaches into a custom component on the page.
function find(comp, selector) {
  let node = comp
  for (const part of selector.split(' >>> ')) {
    node = node.querySelector(part)
    if (!node) throw new Error(`nothing matches ${selector} on the page: ${text(comp).slice(0, 400)}`)
  }
  return node
}

async function tap(comp, selector) {
  find(comp, selector).dispatchEvent('tap')
  await settle()
  if (comp.instance.__pending) await comp.instance.__pending
  await settle()
}

async function type(comp, selector, value) {
  find(comp, selector).dispatchEvent('input', {detail: {value}})
  await settle(5)
}

// Sign in and bind through the app's own api module, for the flows that start on an already bound phone. One
// person is always the same WeChat user (any test file may meet them first).
async function signInAs(person) {
  device.loginCode = `mp-${person.id_number.slice(-8)}`
  if (await api.ensureSession()) return
  await api.call('bind', {body: {name: person.name, id_number: person.id_number, phone: '13812345678',
    scoring_consent: true}})
}

function server(method, pathName, {token, body} = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request(process.env.XYF_MP_BASE + pathName, {method, agent: false, headers: {
      'Content-Type': 'application/json', ...(token ? {Authorization: `Bearer ${token}`} : {}),
      ...(payload ? {'Content-Length': Buffer.byteLength(payload)} : {})}}, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        let data = raw
        try {
          data = JSON.parse(raw)
        } catch (error) {
          // not JSON
        }
        resolve({status: res.statusCode, data})
      })
    })
    req.on('error', reject)
    if (payload) req.write(payload)
    req.end()
  })
}

// What the server holds for the signed-in person, asked directly (not through the app).
async function mine(pathName) {
  const {access_token: token} = api.session()
  const res = await server('GET', pathName, {token})
  if (res.status !== 200) throw new Error(`${pathName}: ${res.status} ${JSON.stringify(res.data)}`)
  return res.data
}

const FIXTURES = path.join(ROOT, 'tests', 'fixtures')

module.exports = {ROOT, FIXTURES, api, credentials, openPage, settle, text, find, tap, type, signInAs, server, mine}
