// Photos as evidence: picked with wx.chooseMedia, non-images refused here before anything is sent, then
// uploaded one by one (wx.uploadFile sends one file per request) to /mp/v1/me/evidence; the form sends the ids.
const api = require('../api/index.js')

const IMAGE = /\.(jpe?g|png)$/i

function choose(count) {
  return new Promise((resolve) => {
    wx.chooseMedia({count, mediaType: ['image'], sizeType: ['compressed'], sourceType: ['album', 'camera'],
      success: (res) => resolve(res.tempFiles || []),
      fail: () => resolve([])})
  })
}

// → {accepted: [{path, size}], refused: ['…为什么']}
function check(files, limits, already) {
  const accepted = []
  const refused = []
  for (const file of files) {
    const name = file.tempFilePath.split('/').pop()
    if ((file.fileType && file.fileType !== 'image') || !IMAGE.test(file.tempFilePath)) {
      refused.push(`“${name}”不是 JPG 或 PNG 图片，未添加。`)
    } else if (file.size > limits.maxBytes) {
      refused.push(`“${name}”超过 ${Math.round(limits.maxBytes / 1024 / 1024)}MB，未添加。`)
    } else if (already + accepted.length >= limits.maxFiles) {
      refused.push(`最多可添加 ${limits.maxFiles} 张照片。`)
    } else {
      accepted.push({path: file.tempFilePath, size: file.size, evidenceId: null})
    }
  }
  return {accepted, refused}
}

// Uploads the photos not uploaded yet; a failure keeps the ones already sent, so a retry sends only the rest.
async function uploadAll(photos, onProgress) {
  for (let i = 0; i < photos.length; i += 1) {
    if (photos[i].evidenceId) continue
    const answer = await api.call('uploadEvidence', {filePath: photos[i].path})
    photos[i].evidenceId = answer.evidence_id
    if (onProgress) onProgress(i, photos)
  }
  return photos.map((p) => p.evidenceId)
}

// Files a form with its photos: each uploaded on its own, then the form with their ids. `photos` keeps the ids of
// those already sent, so that a retry after a failure sends only the rest.
async function submit(call, body, photos) {
  const ids = await uploadAll(photos)
  return api.call(call, {body: {...body, evidence_ids: ids}})
}

module.exports = {choose, check, uploadAll, submit}
