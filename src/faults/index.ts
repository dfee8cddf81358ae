// The public surface of src/faults: the test-only fault switch of a member process (test-faults.ts).
export { TEST_FAULTS_ENV, beforeSync, beforeWrite, parseTestFaults, setTestFaults, testFaults, watchTestFaults, type TestFaults } from './test-faults.js';
