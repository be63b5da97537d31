// Starts one real demo server for the whole run: `flask --app wsgi demo serve` with a scratch instance directory
// and a small demo city. On PostgreSQL (DATABASE_URL set) it gets a database of its own, created here and dropped
// in global-teardown.js, so the run never depends on what another run left behind.
const {spawn, execFileSync} = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')
const http = require('http')

const REPO = path.resolve(__dirname, '..', '..', '..')
const PYTHON = process.env.PYTHON || 'python'
const CITIZENS = '40' // a few per level: enough for every flow, seeded in seconds

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', () => resolve(0))
    req.setTimeout(2000, () => req.destroy())
  })
}

function psql(adminUrl, sql) {
  execFileSync('psql', [adminUrl, '-qc', sql], {stdio: 'pipe'})
}

function scratchDatabase(url) {
  // postgresql://user@host:port/name → the same server, a database named for this run
  const parsed = new URL(url)
  const name = `xyf_mp_${process.pid}`
  const admin = new URL(url)
  admin.pathname = '/postgres'
  psql(admin.toString(), `DROP DATABASE IF EXISTS ${name}`)
  psql(admin.toString(), `CREATE DATABASE ${name}`)
  parsed.pathname = `/${name}`
  return {url: parsed.toString(), name, admin: admin.toString()}
}

module.exports = async function globalSetup() {
  const instance = fs.mkdtempSync(path.join(os.tmpdir(), 'xyf-mp-instance-'))
  const port = await freePort()
  const env = {...process.env, INSTANCE_PATH: instance, FLASK_DEBUG: '0'}
  let database = null
  if (process.env.DATABASE_URL && process.env.DATABASE_URL.startsWith('postgres')) {
    database = scratchDatabase(process.env.DATABASE_URL)
    env.DATABASE_URL = database.url
  } else {
    delete env.DATABASE_URL // SQLite file under the scratch instance directory
  }
  if (process.env.REDIS_URL) {
    // The run owns this Redis database as pytest does: start from an empty one.
    execFileSync(PYTHON, ['-c', 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()'],
      {env, stdio: 'pipe'})
  }
  const log = fs.openSync(path.join(instance, 'server.log'), 'a')
  const child = spawn(PYTHON, ['-m', 'flask', '--app', 'wsgi', 'demo', 'serve', '--port', String(port),
    '--citizens', CITIZENS], {cwd: REPO, env, stdio: ['ignore', log, log], detached: true})
  fs.closeSync(log)
  child.unref()
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 180000
  let up = false
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await get(`${base}/openapi.json`)) === 200) {
      up = true
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  globalThis.__XYF_MP__ = {child, instance, database}
  if (!up) {
    const tail = fs.readFileSync(path.join(instance, 'server.log'), 'utf8').slice(-3000)
    try {
      process.kill(-child.pid)
    } catch (error) {
      // already gone
    }
    if (database) psql(database.admin, `DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`)
    fs.rmSync(instance, {recursive: true, force: true})
    throw new Error(`the demo server did not start:\n${tail}`)
  }
  process.env.XYF_MP_BASE = base
  process.env.XYF_MP_INSTANCE = instance
}
