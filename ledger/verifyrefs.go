package ledger

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
)

// Which device each disposal names, in bounded memory
//
// Every disposals row names its device by row id (device_id); its event
// names it by uuid (disposal.record), or created both rows (device.import,
// import.rows). Rather than keep every device's id and uuid in memory
// until the last disposal is read, Verify checks all the references at
// once with two order-independent sums:
//
//   - for each disposals row, H(device_id, the uuid its event names);
//   - for each devices row, n × H(id, its uuid as its event names it),
//     where n is the number of disposals rows whose device_id is that id,
//     read in id order beside the devices stream (SELECT device_id,
//     count(*) ... GROUP BY device_id, a scan of index disposals_device).
//
// H is a keyed hash (hash/maphash, two 64-bit lanes seeded at random
// when verify runs). The two sums are equal when every disposal names
// the device its event names; a row pointing at another device, at none,
// or counts that lie (an index built otherwise) leave them different but
// with a chance of about 2^-64. Only then is the slow, precise check run:
// each disposal.record event's disposal row is looked up, and its device
// compared (diagnoseRefs), naming the row.
//
// The same counts settle final dispositions as the disposals stream goes:
// a device with one disposal needs it final (and not void); a device with
// n > 1 keeps its disposals in memory only until the n-th arrives
// (dispGroup). What the counts say is covered by the sums above.

// devCount is one row of the counts stream.
type devCount struct{ deviceID, n int64 }

func scanDevCount(st *rawStmt, _ *arena, r *devCount) { r.deviceID, r.n = st.int64(0), st.int64(1) }

// devCountQuery counts each device's disposals in device_id order (the
// planner reads index disposals_device; without it, SQLite sorts).
const devCountQuery = `SELECT device_id, count(*) FROM disposals GROUP BY device_id ORDER BY device_id`

// deviceRefs holds the two sums.
type deviceRefs struct {
	counts     *stream[devCount]
	s1, s2     maphash.Seed
	devs, disp [2]uint64
	high       int64 // the last devices id given its count
	buf        []byte
}

func newDeviceRefs(counts *stream[devCount]) *deviceRefs {
	return &deviceRefs{counts: counts, s1: maphash.MakeSeed(), s2: maphash.MakeSeed()}
}

func (r *deviceRefs) hash(id int64, uuid string) (uint64, uint64) {
	r.buf = binary.BigEndian.AppendUint64(r.buf[:0], uint64(id))
	r.buf = append(r.buf, uuid...)
	return maphash.Bytes(r.s1, r.buf), maphash.Bytes(r.s2, r.buf)
}

// countFor returns how many disposals name devices row id; ids must come
// in increasing order (a lower one gets 0: an out-of-order row is
// reported as such).
func (r *deviceRefs) countFor(id int64) int64 {
	if id <= r.high {
		return 0
	}
	r.high = id
	for c := r.counts.peek(); c != nil; c = r.counts.peek() {
		if c.deviceID > id {
			break
		}
		r.counts.pop()
		if c.deviceID == id {
			return c.n
		}
	}
	return 0
}

// disposal adds a disposals row naming devices row id, whose event says
// it is device uuid.
func (r *deviceRefs) disposal(id int64, uuid string) {
	a, b := r.hash(id, uuid)
	r.disp[0] += a
	r.disp[1] += b
}

// dispGroup holds the disposals of a device with more than one, until
// all have come.
type dispGroup struct {
	want int64
	ds   []dispMini
}

// deviceSeen gives the devices row id, device uuid by its event, its
// count of disposals.
func (v *verifier) deviceSeen(id int64, uuid string) {
	n := v.refs.countFor(id)
	if n == 0 {
		return
	}
	a, b := v.refs.hash(id, uuid)
	v.refs.devs[0] += uint64(n) * a
	v.refs.devs[1] += uint64(n) * b
	if n > 1 {
		v.groups[id] = &dispGroup{want: n}
	}
}

// finalSeen notes disposal m of device dev for its final disposition.
func (v *verifier) finalSeen(dev int64, m dispMini) {
	switch g := v.groups[dev]; {
	case g != nil:
		g.ds = append(g.ds, m)
		if int64(len(g.ds)) >= g.want {
			if len(finalProblems(g.ds)) > 0 {
				v.finalCheck[dev] = true // settleFinal names them
			}
			delete(v.groups, dev)
		}
	case dev > v.refs.high:
		// Its device row has not come (yet): a row out of order, or none.
		v.finalCheck[dev] = true
	case m.final != 1 || m.void:
		// The device's only disposal is final, unless void.
		v.finalCheck[dev] = true
	}
}

// settleRefs compares the two sums once every row has been read and,
// when they differ, finds the disposals that name another device.
func (v *verifier) settleRefs() error {
	for c := v.refs.counts.peek(); c != nil; c = v.refs.counts.peek() {
		v.refs.counts.pop() // disposals of devices no row came for
	}
	if err := v.refs.counts.failed(); err != nil {
		return fmt.Errorf("verify: count each device's disposals: %w", err)
	}
	if v.refs.devs == v.refs.disp {
		return nil
	}
	before := len(v.problems) + v.more
	if err := v.diagnoseRefs(); err != nil {
		return err
	}
	if len(v.problems)+v.more == before && before == 0 {
		v.tableProblem(v.events+1, &TableError{Table: "disposals",
			Problem: "the devices the disposals rows name are not those their events name, or index disposals_device does not count them right"})
	}
	return nil
}

// diagnoseRefs names each disposals row made by a disposal.record event
// whose device_id is not the device the event names.
func (v *verifier) diagnoseRefs() error {
	st, err := v.main.prepare(`SELECT seq, payload FROM events NOT INDEXED WHERE action = 'disposal.record' ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer st.finalize()
	for {
		ok, err := st.step()
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !ok {
			return v.readErr
		}
		seq := st.int64(0)
		var f dispFields
		if decodeDisposalPayload(st.bytes(1), &f) != nil {
			continue // reported by the replay
		}
		var id, dev int64
		found, err := v.pointRow(`SELECT id, device_id FROM disposals WHERE uuid = ?`, f.UUID, func(q *rawStmt) { id, dev = q.int64(0), q.int64(1) })
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if found && !v.deviceIs(dev, f.Device) {
			v.tableProblem(seq, &TableError{Table: "disposals", RowID: id, Key: "uuid " + f.UUID, Seq: seq,
				Problem: fmt.Sprintf("device_id %d is not device %s that event %d names", dev, f.Device, seq)})
		}
	}
}
