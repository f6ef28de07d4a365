package redis

import "bytes"

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// crcTable is CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0),
// the checksum Redis Cluster hashes keys with, one entry per byte value.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// keySlot is the hash slot of key, as Redis Cluster computes it: when the
// key holds a '{' followed, later, by a '}' with at least one byte
// between them, only the bytes between the first '{' and the first '}'
// after it (its hash tag) are hashed; otherwise the whole key is.
func keySlot(key []byte) int {
	if open := bytes.IndexByte(key, '{'); open >= 0 {
		if end := bytes.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	return int(crc16(key) % slotCount)
}
