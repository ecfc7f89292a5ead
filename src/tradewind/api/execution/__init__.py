"""The task execution API over HTTP (`/execution/...`): the only way a task try reaches shared state."""
