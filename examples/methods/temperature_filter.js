// The platform's example processing method: keep only temperature changes and reshape them.
// `value` is a Data Value (feedId, app, sourceTime, source, destination {object, property, state},
// value); returning null drops it.
function preprocessor(value) {
  var destination = value && value.destination;
  if (!destination || !destination.property || destination.property.name !== 'temperature') {
    return null;
  }
  var device = destination.object || {};
  return {
    device_context: {
      id: device.id,
      name: device.name,
      app: value.app ? value.app.name : undefined,
      tags: value.tags || [],
      annotations: value.annotations || {}
    },
    event: {
      feed_id: value.feedId,
      event_type: 'property_change',
      time: value.sourceTime || value.serverTime,
      property_name: destination.property.name,
      property_new_value: value.value
    }
  };
}
