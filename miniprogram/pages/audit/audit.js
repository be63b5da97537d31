// 谁查看了我的信息: the audit trail about me, by name (a merchant's branch, a department, staff), newest first.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')

Component({
  behaviors: [page],
  data: {items: [], page: 1, pages: 1},
  methods: {
    onLoad() {
      this.__pending = this.fetch(1)
      return this.__pending
    },
    onMore() {
      this.__pending = this.fetch(this.data.page + 1)
      return this.__pending
    },
    async fetch(pageNumber) {
      try {
        const answer = await api.call('audit', {query: {page: pageNumber, per_page: 20}})
        const items = answer.items.map((e) => ({...e, when: format.dateTime(e.occurred_at)}))
        this.setData({items: pageNumber === 1 ? items : this.data.items.concat(items), page: answer.page,
          pages: answer.pages})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
