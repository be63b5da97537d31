// 消息: the message centre (read/unread, the unread count as the tab's badge), and asking for WeChat
// subscription messages inside a tap (wx.requestSubscribeMessage only works there), recording what was accepted.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')
const badge = require('../../utils/badge.js')
const {templates} = require('../../utils/settings.js')

Component({
  behaviors: [page],
  data: {items: [], unread: 0, open: '', subscribed: ''},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    onShow() {
      this.__pending = this.load()
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        const answer = await api.call('messages', {query: {per_page: 50}})
        this.setData({items: answer.items.map((m) => ({...m, when: format.dateTime(m.created_at)})),
          unread: answer.unread, loading: false})
        badge.show(answer.unread)
        // Template ids come from the server, so that none is written into the app.
        this.templates = templates(await api.clientSettings().catch(() => null))
      } catch (error) {
        this.showError(error)
      }
    },
    onOpen(event) {
      const ref = event.currentTarget.dataset.ref
      this.setData({open: this.data.open === ref ? '' : ref})
      const message = this.data.items.find((m) => m.ref === ref)
      if (message && !message.read) {
        this.__pending = this.markRead([ref])
        return this.__pending
      }
      return null
    },
    onReadAll() {
      this.__pending = this.markRead([])
      return this.__pending
    },
    async markRead(refs) {
      try {
        const answer = await api.call('markRead', {body: {refs}})
        const items = this.data.items.map((m) => (!refs.length || refs.includes(m.ref) ? {...m, read: true} : m))
        this.setData({items, unread: answer.unread})
        badge.show(answer.unread)
      } catch (error) {
        this.showError(error)
      }
    },
    onSubscribe() {
      const list = (this.templates || []).slice(0, 3)
      if (!list.length) {
        this.setData({subscribed: '暂时无法订阅微信提醒，消息仍会在这里显示。'})
        return null
      }
      // Called synchronously inside the tap handler, as WeChat requires.
      this.__pending = new Promise((resolve) => {
        wx.requestSubscribeMessage({
          tmplIds: list.map((t) => t.template_id),
          success: (res) => resolve(this.recordSubscription(list.filter((t) => res[t.template_id] === 'accept'))),
          fail: () => {
            this.setData({subscribed: '未能打开订阅设置，请稍后再试。'})
            resolve()
          },
        })
      })
      return this.__pending
    },
    async recordSubscription(accepted) {
      if (!accepted.length) {
        this.setData({subscribed: '您没有同意接收提醒；消息仍会在这里显示。'})
        return
      }
      try {
        const answer = await api.call('subscribe', {body: {templates: accepted.map((t) => t.kind)}})
        const names = accepted.filter((t) => answer.templates.includes(t.kind)).map((t) => t.name || t.kind)
        this.setData({subscribed: `已订阅：${names.join('、')}`})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
