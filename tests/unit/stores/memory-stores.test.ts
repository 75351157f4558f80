import { describe, it } from 'vitest';
import { MemoryAttemptStore } from '../../../src/stores/memory-attempt-store.js';
import { MemoryRateLimitStore } from '../../../src/stores/memory-rate-limit-store.js';
import { MemoryUserStore } from '../../../src/stores/memory-user-store.js';
import {
  describeAttemptStore,
  describeRateLimitStore,
  describeUserStore,
} from '../../../src/testing/index.js';

describeUserStore('MemoryUserStore', () => new MemoryUserStore(), { describe, it });
describeAttemptStore('MemoryAttemptStore', () => new MemoryAttemptStore(), { describe, it });
describeRateLimitStore('MemoryRateLimitStore', () => new MemoryRateLimitStore(), { describe, it });
