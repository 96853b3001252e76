package atoll

deny contains msg if {
	resp := http.send({"method": "GET", "url": "http://example.com"})
	msg := resp.body
}
