// 长辈模式: text follows WeChat's font size setting; the 大字模式 switch (kept in WeChat storage) makes it larger.
const KEY = 'bigText'

function systemScale() {
  try {
    const info = wx.getAppBaseInfo ? wx.getAppBaseInfo() : {}
    if (info.fontSizeScaleFactor) return info.fontSizeScaleFactor
    if (info.fontSizeSetting) return info.fontSizeSetting / 16
  } catch (error) {
    // An old base library without getAppBaseInfo: normal size.
  }
  return 1
}

function state() {
  const big = !!wx.getStorageSync(KEY)
  const scale = Math.max(systemScale(), big ? 1.3 : 1)
  return {elder: big || scale > 1.1, fontScale: Math.round(scale * 100) / 100}
}

function setBig(on) {
  wx.setStorageSync(KEY, on ? 1 : 0)
  return state()
}

module.exports = {state, setBig}
