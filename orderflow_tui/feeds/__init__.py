"""Sources of frames: live venue connections and paced capture replay (the simulated exchange is in sim/)."""
