const {execFileSync} = require('child_process')
const fs = require('fs')

module.exports = async function globalTeardown() {
  const state = globalThis.__XYF_MP__
  if (!state) return
  const {child, instance, database} = state
  if (child.exitCode === null) {
    const gone = new Promise((resolve) => child.once('exit', resolve))
    try {
      process.kill(-child.pid, 'SIGTERM') // the server and the stand-ins it started
    } catch (error) {
      // already gone
    }
    let timer
    await Promise.race([gone, new Promise((resolve) => { timer = setTimeout(resolve, 5000) })])
    clearTimeout(timer)
  }
  if (database) {
    execFileSync('psql', [database.admin, '-qc', `DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`],
      {stdio: 'pipe'})
  }
  fs.rmSync(instance, {recursive: true, force: true})
}
