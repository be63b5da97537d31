// The credit code's QR, encoded here (qrcode-generator, pure JS) into a GIF data URL for an <image>.
const qrcode = require('qrcode-generator')

function dataUrl(text, cellSize = 4) {
  const code = qrcode(0, 'M')
  code.addData(text, 'Byte')
  code.make()
  return code.createDataURL(cellSize, cellSize * 4)
}

module.exports = {dataUrl}
