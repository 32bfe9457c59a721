package web_test

import (
	"time"

	"github.com/vigil-hr/vigil/internal/ratelimit"
)

func ratelimitConfig(burst int) ratelimit.Config {
	return ratelimit.Config{Burst: burst, Every: time.Hour}
}
