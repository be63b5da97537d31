// 信用记录: filter by dimension and status; each record with its points and the date it stops counting.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const {describe} = require('./describe.js')

Component({
  behaviors: [page],
  data: {
    dimensions: [{value: '', label: '全部'}, {value: 'public', label: '公共信用'}, {value: 'law', label: '遵纪守法'},
      {value: 'commitment', label: '履约践诺'}, {value: 'honour', label: '荣誉慈善'}],
    statuses: [{value: '', label: '全部'}, {value: 'active', label: '有效'}, {value: 'disputed', label: '异议中'},
      {value: 'repaired', label: '已修复'}, {value: 'expired', label: '已到期'}, {value: 'revoked', label: '已撤销'}],
    dimension: '', status: '', items: [], page: 1, pages: 1, total: 0,
  },
  methods: {
    onLoad(query = {}) {
      this.setData({dimension: query.dimension || '', status: query.status || ''})
      return this.reload()
    },
    reload() {
      this.__pending = this.fetch(1)
      return this.__pending
    },
    onDimension(event) {
      this.setData({dimension: event.currentTarget.dataset.value})
      return this.reload()
    },
    onStatus(event) {
      this.setData({status: event.currentTarget.dataset.value})
      return this.reload()
    },
    onMore() {
      this.__pending = this.fetch(this.data.page + 1)
      return this.__pending
    },
    async fetch(pageNumber) {
      this.setData({loading: true, error: null})
      try {
        const answer = await api.call('records', {query: {page: pageNumber, per_page: 20,
          dimension: this.data.dimension, status: this.data.status}})
        const items = answer.items.map(describe)
        this.setData({items: pageNumber === 1 ? items : this.data.items.concat(items), page: answer.page,
          pages: answer.pages, total: answer.total, loading: false})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
