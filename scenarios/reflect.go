package scenarios

import "reflect"

func reflectValue(sc *Scenario) reflect.Value { return reflect.ValueOf(sc).Elem() }
