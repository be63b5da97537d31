// The one setting of the app: where the credit-score API is. The demo (`flask --app wsgi demo serve`) serves at
// this address; point it at your server (HTTPS and a registered request domain on a real phone).
module.exports = {
  apiBase: 'http://127.0.0.1:5000',
}
