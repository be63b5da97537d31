// Picks evidence photos (wx.chooseMedia), refusing non-images and too many before anything is sent.
const evidence = require('../../utils/evidence.js')

Component({
  properties: {
    photos: {type: Array, value: []},
    max: {type: Number, value: 3},
    maxBytes: {type: Number, value: 2 * 1024 * 1024},
  },
  data: {refused: []},
  methods: {
    async onAdd() {
      const files = await evidence.choose(this.data.max - this.data.photos.length)
      const {accepted, refused} = evidence.check(files, {maxFiles: this.data.max, maxBytes: this.data.maxBytes},
        this.data.photos.length)
      this.setData({refused})
      this.triggerEvent('change', {photos: this.data.photos.concat(accepted)})
    },
    onRemove(event) {
      const photos = this.data.photos.slice()
      photos.splice(event.currentTarget.dataset.index, 1)
      this.triggerEvent('change', {photos})
    },
  },
})
