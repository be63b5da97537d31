// A named stand-in for TDesign's components under miniprogram-simulate (their packed build needs WeChat's own
// runtime): it renders its slot, so the text a person reads and the taps on it stay the page's own.
Component({
  properties: {theme: String, size: String, block: Boolean, loading: Boolean, disabled: Boolean, variant: String},
})
