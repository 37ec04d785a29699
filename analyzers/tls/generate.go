package tls

//go:generate go run gen_ciphers.go
