import { onTestFinished, vi } from 'vitest';

/**
 * For a test that provokes an error on purpose: the service's log line is captured instead of printed
 * (assert on the returned spy), so a stack trace left in the test output always means something.
 */
export function captureConsole(method: 'error' | 'warn' | 'log') {
  const spy = vi.spyOn(console, method).mockImplementation(() => {});
  onTestFinished(() => spy.mockRestore());
  return spy;
}
