// Reading /mp/v1/client-settings: consent texts and versions, subscription template ids, evidence limits.
function consentOf(settings, kind) {
  const found = ((settings && settings.consents) || []).find((c) => c.kind === kind)
  if (!found) return null
  return {kind, title: found.name, version: found.version, text: found.text}
}

function templates(settings) {
  return (settings && settings.subscription_templates) || []
}

// Before the settings have arrived: one photo of at most 2 MB (the server checks again in any case).
function evidenceLimits(settings) {
  const limits = (settings && settings.evidence) || {}
  return {maxFiles: limits.max_files || 1, maxBytes: limits.max_bytes || 2 * 1024 * 1024}
}

module.exports = {consentOf, templates, evidenceLimits}
