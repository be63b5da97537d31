// The unread count of the message centre, as the badge on the 消息 tab.
const api = require('../api/index.js')

const MESSAGE_TAB = 2

async function refresh() {
  try {
    const {unread} = await api.call('unreadCount')
    show(unread)
    return unread
  } catch (error) {
    return null
  }
}

function show(unread) {
  if (unread > 0) wx.setTabBarBadge({index: MESSAGE_TAB, text: unread > 99 ? '99+' : String(unread)})
  else wx.removeTabBarBadge({index: MESSAGE_TAB})
}

module.exports = {refresh, show}
