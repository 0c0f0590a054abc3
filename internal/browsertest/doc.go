// Package browsertest gives tests that drive a real headless Chromium (the
// console's, the atlas's) what they share: a fresh profile directory that
// outlives the browser's shutdown.
package browsertest
