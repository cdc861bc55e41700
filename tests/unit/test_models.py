import torch

from regdemo.training.models import (
    ArticleNet,
    CapturingDropout,
    WideNet,
    build_model,
    count_parameters,
    dropout_layers,
    penalized_weights,
)


def test_article_net_is_exactly_the_articles():
    net = ArticleNet()
    assert count_parameters(net) == 10_790
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs] == [
        (1, 10, 3), (10, 10, 3), (10, 20, 3), (20, 10, 1), (10, 10, 3), (10, 20, 3), (20, 10, 1), (10, 10, 7)]
    assert all(c.bias is None and c.padding == (0, 0) for c in convs)
    assert list(dropout_layers(ArticleNet(dropout=0.25))) == ["drop1", "drop2"]


def test_models_take_unit_images_and_return_log_probabilities():
    x = torch.rand(5, 1, 28, 28)
    for name in ("article", "wide"):
        for bn in (False, True):
            model = build_model(name, dropout=0.5, batchnorm=bn).eval()
            out = model(x)
            assert out.shape == (5, 10)
            assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)


def test_batchnorm_switch_adds_batchnorm_layers():
    for cls in (ArticleNet, WideNet):
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in cls().modules())
        assert any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in cls(batchnorm=True).modules())


def test_dropout_zeroes_about_p_in_train_mode_and_nothing_in_eval():
    layer = CapturingDropout(0.3)
    layer.generator = torch.Generator().manual_seed(0)
    x = torch.ones(200, 1000)
    out = layer.train()(x)
    dropped = (out == 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.01
    # Inverted dropout: kept units are scaled so the expected activation is unchanged.
    assert torch.allclose(out[out != 0], torch.full_like(out[out != 0], 1 / 0.7))
    assert torch.equal(layer.eval()(x), x)


def test_captured_mask_is_the_mask_the_forward_pass_used():
    layer = CapturingDropout(0.5).train()
    layer.capture_row = 2
    x = torch.rand(4, 256) + 0.1  # no zeros of its own
    out = layer(x)
    activation, kept = layer.captured
    assert torch.equal(activation, x[2])
    assert torch.equal(kept, out[2] != 0)


def test_penalized_weights_exclude_biases_unless_all():
    model = WideNet(batchnorm=True)
    only_weights = penalized_weights(model, all_params=False)
    assert len(only_weights) == 4  # conv1, conv2, fc1, fc2 weights
    assert all(w.dim() > 1 for w in only_weights)
    assert len(penalized_weights(model, all_params=True)) == len(list(model.parameters()))
