// The mini-program's tests: pages load in miniprogram-simulate and talk over HTTP to a real demo server that
// tests/harness/global-setup.js starts (on DATABASE_URL / REDIS_URL when set, as CI runs it on both databases).
module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  globalSetup: '<rootDir>/tests/harness/global-setup.js',
  globalTeardown: '<rootDir>/tests/harness/global-teardown.js',
  setupFilesAfterEnv: ['<rootDir>/tests/harness/setup-env.js'],
  testTimeout: 60000,
}
