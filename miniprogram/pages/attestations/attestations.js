// 城市互认证明: issue an attestation of my level for a partner city, the list with each one's status, revoking one.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')

const STATES = {valid: '有效', expired: '已过期', revoked: '已撤销'}

Component({
  behaviors: [page],
  data: {partners: [], partner: '', items: [], issued: null},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      try {
        const [items, settings] = await Promise.all([api.call('attestations'), api.clientSettings().catch(() => null)])
        const partners = ((settings && settings.partners) || []).map((p) => ({code: p.city_code || p.code,
          name: p.city_name || p.name}))
        this.setData({partners, items: items.map((a) => ({...a, issued: format.dateTime(a.issued_at),
          stateName: (STATES[a.state] || a.state) + (a.revoke_reason ? `（${a.revoke_reason}）` : '')}))})
      } catch (error) {
        this.showError(error)
      }
    },
    onPartner(event) {
      this.setData({partner: event.currentTarget.dataset.code})
    },
    onPartnerInput(event) {
      this.setData({partner: event.detail.value})
    },
    onRevoke(event) {
      const jti = event.currentTarget.dataset.jti
      this.__pending = (async () => {
        try {
          await api.call('revokeAttestation', {params: {jti}})
          await this.load()
        } catch (error) {
          this.showError(error)
        }
      })()
      return this.__pending
    },
    onIssue() {
      this.__pending = (async () => {
        this.setData({error: null})
        try {
          const issued = await api.call('issueAttestation', {body: {partner: this.data.partner}})
          this.setData({issued: {...issued, qr: `data:image/png;base64,${issued.qr_png}`,
            expires: format.dateTime(issued.expires_at)}})
          await this.load()
        } catch (error) {
          this.showError(error)
        }
      })()
      return this.__pending
    },
  },
})
