// Builds miniprogram_npm/ from node_modules/ as WeChat DevTools' "构建 npm" does, without DevTools:
// miniprogram-ci's packNpmManually, driven by packNpmRelationList in project.config.json.
const path = require('path')
const ci = require('miniprogram-ci')

const root = path.resolve(__dirname, '..')
const project = require(path.join(root, 'project.config.json'))

async function main() {
  for (const relation of project.setting.packNpmRelationList) {
    const result = await ci.packNpmManually({
      packageJsonPath: path.join(root, relation.packageJsonPath),
      miniprogramNpmDistDir: path.join(root, relation.miniprogramNpmDistDir),
    })
    console.log(`miniprogram_npm built from ${relation.packageJsonPath}:`, JSON.stringify(result))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
