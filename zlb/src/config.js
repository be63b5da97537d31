// Everything that differs between the demo and a real 浙里办 listing, in one place. Build-time values come from
// VITE_* environment variables (see the README's 浙里办 section); the defaults suit the demo served by Flask.
const env = import.meta.env

export const config = {
  // Where plain fetch (and evidence uploads, which the gateway cannot carry) reach the API: '' = this origin.
  apiBase: env.VITE_API_BASE || '',
  // The 浙里办 gateway (mgop): its host and this app's key, issued when the APIs are registered there.
  mgopHost: env.VITE_MGOP_HOST || 'https://mapi.zjzwfw.gov.cn/',
  mgopAppKey: env.VITE_MGOP_APP_KEY || '',
  // The application's id for the analytics script (zwlog) and the page-view reports.
  miniAppId: env.VITE_ZLB_APP_ID || '',
  // 浙里办's scripts: loaded only inside 浙里办, never bundled.
  bridgeScript: env.VITE_ZWJSBRIDGE_URL || 'https://assets.zjzwfw.gov.cn/assets/ZWJSBridge/1.1.0/zwjsbridge.js',
  zwlogScript: env.VITE_ZWLOG_URL || 'https://assets.zjzwfw.gov.cn/assets/zwlog/1.0.0/zwlog.js',
  // The demo's stand-in of the container serves its fake bridge here (relative to the app's page).
  standinBridgeScript: 'standin/zwjsbridge.js',
  // The city's centre when the container gives no location (the demo's stand-in gives 绍兴 itself).
  cityCentre: { latitude: 30.0023, longitude: 120.5810 },
  // Partner cities a citizen can ask an attestation for (the registry's active partners).
  partners: [
    { code: '330100', name: '杭州（钱江分）' },
    { code: '330200', name: '宁波（天一分）' },
    { code: '320500', name: '苏州（桂花分）' },
  ],
}
