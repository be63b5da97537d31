// Reading /mp/v1/client-settings: consent texts and versions, subscription template ids, evidence limits.
function consentOf(settings, kind) {
  const consents = (settings && settings.consents) || []
  const found = Array.isArray(consents) ? consents.find((c) => c.kind === kind) : consents[kind]
  if (!found) return null
  return {kind, title: found.name || found.title || '信用评分授权', version: found.version, text: found.text}
}

function templates(settings) {
  return (settings && settings.subscription_templates) || []
}

function evidenceLimits(settings) {
  const limits = (settings && settings.evidence) || {}
  return {maxFiles: limits.max_files || 3, maxBytes: limits.max_bytes || 2 * 1024 * 1024,
    types: limits.types || ['image/jpeg', 'image/png']}
}

module.exports = {consentOf, templates, evidenceLimits}
