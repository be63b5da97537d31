// 我的申请: objections and repairs, newest first, each with its deadline in working days.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const {deadlineText} = require('./deadline.js')

Component({
  behaviors: [page],
  data: {items: []},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        const answer = await api.call('cases', {query: {per_page: 50}})
        this.setData({items: answer.items.map((c) => ({...c, deadlineText: deadlineText(c)})), loading: false})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
