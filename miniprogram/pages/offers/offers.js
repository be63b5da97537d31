// 权益: offers by scene, eligible or what is missing; 附近: with the person's permission (wx.getLocation, gcj02)
// the offers sorted by the distance of their nearest branch.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')

Component({
  behaviors: [page],
  data: {offers: [], scenes: [{code: '', name: '全部'}], scene: '', levelName: '', nearby: false, locationRefused: ''},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    onShow() {
      require('../../utils/badge.js').refresh()
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        const query = {scene: this.data.scene}
        if (this.data.nearby && this.location) Object.assign(query, this.location)
        const answer = await api.call('offers', {query})
        let offers = (answer.qualified || []).concat(answer.others || answer.not_qualified || [])
        offers = offers.map((o) => ({...o, distanceText: format.distance(o.distance_m)}))
        if (this.data.nearby) offers.sort((a, b) => (a.distance_m === undefined || a.distance_m === null ? 1e12 : a.distance_m) - (b.distance_m === undefined || b.distance_m === null ? 1e12 : b.distance_m))
        const scenes = this.data.scenes.slice()
        for (const o of offers) if (!scenes.find((s) => s.code === o.scene.code)) scenes.push({code: o.scene.code, name: o.scene.name})
        this.setData({offers, levelName: answer.level_name, scenes, loading: false})
      } catch (error) {
        this.showError(error)
      }
    },
    onScene(event) {
      this.setData({scene: event.currentTarget.dataset.code})
      this.__pending = this.load()
      return this.__pending
    },
    onNearby() {
      this.__pending = new Promise((resolve) => {
        wx.getLocation({type: 'gcj02',
          success: (res) => {
            this.location = {lat: res.latitude, lng: res.longitude}
            this.setData({nearby: true, locationRefused: ''})
            resolve(this.load())
          },
          fail: () => {
            this.setData({locationRefused: '未获得位置授权，无法按距离排序。可在右上角“设置”中允许使用位置。'})
            resolve()
          }})
      })
      return this.__pending
    },
  },
})
