/* SPDX-License-Identifier: MIT */
/* Test-only ECDSA key and certificate (certtool, CN 127.0.0.1) for vencrypt-handshake. */
/* clang-format off */
static const char fuzz_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBtjCCAV2gAwIBAgIUUSvKXz9Yjtf5SoxHtME9Ypxe0rIwCgYIKoZIzj0EAwIw\n"
	"GTEXMBUGA1UEAxMOY2VsbHZtIHRlc3QgQ0EwHhcNMjYxMTIyMDE0NjE2WhcNMjYx\n"
	"MTI0MDE0NjE2WjAUMRIwEAYDVQQDEwkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggq\n"
	"hkjOPQMBBwNCAATmA7DFgWTu/kNxbA0aJ3Sj3nIJVhgWsGn/9hgnqc4nWqUzLilF\n"
	"y8N+b4azEEGDz1DNLUrQFxba2NK4I9w5yvJUo4GHMIGEMAwGA1UdEwEB/wQCMAAw\n"
	"DwYDVR0RBAgwBocEfwAAATATBgNVHSUEDDAKBggrBgEFBQcDATAOBgNVHQ8BAf8E\n"
	"BAMCB4AwHQYDVR0OBBYEFO6cSgmzAOIyx+MVYI0AcjNhvlkkMB8GA1UdIwQYMBaA\n"
	"FHKHpFi4V/wmehxrpDL2j16dGuDuMAoGCCqGSM49BAMCA0cAMEQCIFFDpoupiLxH\n"
	"pscDp4jVzy4IKrwCp4na/y79nf/gdt39AiBOcjeaQVU3EfLpML46Pgv1YuEIGYJ4\n"
	"qu48x47yK/+Dqg==\n"
	"-----END CERTIFICATE-----\n";
static const char fuzz_key_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIGo8QlKOaA6hJqtmVpcLASMv/L2OLhgM6k3H9byVDdYJoAoGCCqGSM49\n"
	"AwEHoUQDQgAE5gOwxYFk7v5DcWwNGid0o95yCVYYFrBp//YYJ6nOJ1qlMy4pRcvD\n"
	"fm+GsxBBg89QzS1K0BcW2tjSuCPcOcryVA==\n"
	"-----END EC PRIVATE KEY-----\n";
/* clang-format on */
