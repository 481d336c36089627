"""Sources of frames: live venue connections, the simulated exchange, paced capture replay."""
