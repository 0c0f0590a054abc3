package simulate

import (
	"net/http"
)

// The fleet's side of the control API (fleet.go):
//
//	GET    /clients                   the assignments, most specific first, then the default, with hits per client address
//	PUT    /clients/{cidr}/scenario   assign a scenario: ?name=<catalog name> or the scenario file in the body
//	DELETE /clients/{cidr}            return those clients to the default scenario (also …/scenario)
//
// {cidr} is an address ("192.168.56.10") or a network with its slash
// escaped ("192.168.56.0%2F24"). An unknown scenario or a malformed
// network is a 400 naming it, and changes nothing.

func (c *controlService) getClients(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, c.w.Clients())
}

func (c *controlService) putClient(rw http.ResponseWriter, r *http.Request) {
	pfx, err := ParsePrefix(r.PathValue("cidr"))
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	sc, ok := requestScenario(rw, r, http.StatusBadRequest)
	if !ok {
		return
	}
	c.w.Assign(pfx, sc.Name, sc.Seed, sc.Faults)
	c.w.log.Info("scenario assigned", "service", "control", "client", pfx.String(), "scenario", sc.Name, "faults", len(sc.Faults))
	writeJSON(rw, http.StatusOK, c.clientView(pfx.String()))
}

func (c *controlService) deleteClient(rw http.ResponseWriter, r *http.Request) {
	pfx, err := ParsePrefix(r.PathValue("cidr"))
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err := c.w.Unassign(pfx); err != nil {
		writeJSON(rw, http.StatusNotFound, apiError{Error: err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, c.w.Clients())
}

// clientView is the view of one assignment.
func (c *controlService) clientView(name string) ClientView {
	for _, v := range c.w.Clients() {
		if v.Client == name {
			return v
		}
	}
	return ClientView{Client: name}
}
