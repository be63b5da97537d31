// The app: nothing is fetched here; each page signs in through api.ensureSession() when it opens.
App({
  onLaunch() {
    // WeChat asks for privacy consent before the first private API (photos, location); the sign-in page shows
    // the popup and resolves it from a button the person taps.
    if (wx.onNeedPrivacyAuthorization) {
      wx.onNeedPrivacyAuthorization((resolve) => {
        this.globalData.pendingPrivacy = resolve
        const pages = getCurrentPages()
        const page = pages[pages.length - 1]
        if (page && page.askPrivacy) page.askPrivacy(resolve)
      })
    }
  },
  globalData: {pendingPrivacy: null},
})
