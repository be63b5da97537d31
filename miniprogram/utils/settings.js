// Reading /mp/v1/client-settings: consent texts and versions, subscription template ids, evidence limits.
// A server without client settings has no consent texts to give; the scoring consent is then described in the
// app's own words (its version shown as 未提供) so that the person can still choose.
const SCORING_FALLBACK = {name: '信用评分授权', version: '未提供',
  text: '本人授权信用中心依法归集本人的信用信息，计算并向本人展示个人信用分，用于信易+等守信激励。可随时在“我的—我的授权”中撤回。'}

function consentOf(settings, kind) {
  const consents = (settings && settings.consents) || []
  let found = Array.isArray(consents) ? consents.find((c) => c.kind === kind) : consents[kind]
  if (!found && kind === 'scoring') found = SCORING_FALLBACK
  if (!found) return null
  return {kind, title: found.name || found.title || '信用评分授权', version: found.version, text: found.text}
}

function templates(settings) {
  return (settings && settings.subscription_templates) || []
}

// Without client settings the photos go through the multipart form, which takes one per request.
function evidenceLimits(settings) {
  const limits = (settings && settings.evidence) || {}
  const perId = !!(settings && settings.evidence)
  return {maxFiles: perId ? limits.max_files || 3 : 1, perId, maxBytes: limits.max_bytes || 2 * 1024 * 1024,
    types: limits.types || ['image/jpeg', 'image/png']}
}

module.exports = {consentOf, templates, evidenceLimits}
