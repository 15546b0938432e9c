import fc from 'fast-check'

// fast-check's default size keeps arrays to about ten items whatever their maxLength,
// which lets hostile-input properties pass on inputs too short to reach the parsers.
fc.configureGlobal({ baseSize: 'medium' })
