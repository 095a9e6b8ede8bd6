// The camera page (/verify/camera): reads a resident's QR code from the camera with jsQR
// (vendored: assets/vendor-jsqr.sh) and sends its text through the page's own form, as
// if it had been pasted. Without a camera, permission or scripts, the form still works
// by pasting. Nothing leaves the browser but that form post.
(function () {
  'use strict';
  var video = document.getElementById('camera');
  var status = document.getElementById('camera-status');
  var form = document.getElementById('verify-form');
  var field = document.getElementById('token');
  if (!video || !status || !form || !field || typeof jsQR !== 'function') return;
  var say = function (key) { status.textContent = status.getAttribute('data-' + key) || ''; };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say('nocamera'); return; }
  var canvas = document.createElement('canvas');
  var context = canvas.getContext('2d', { willReadFrequently: true });
  navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
    .then(function (stream) {
      video.srcObject = stream;
      video.play();
      say('scanning');
      var tick = function () {
        if (video.readyState >= 2 && video.videoWidth > 0) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var found = jsQR(image.data, image.width, image.height);
          if (found && /^HC1:/.test(found.data)) {
            stream.getTracks().forEach(function (track) { track.stop(); });
            field.value = found.data;
            say('found');
            form.submit();
            return;
          }
        }
        setTimeout(tick, 150);
      };
      tick();
    })
    .catch(function () { say('nocamera'); });
})();
