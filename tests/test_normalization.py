"""Chapter 5 (normalization): batch, layer, instance and group norm, running statistics."""
import statistics

import numpy as np
import pytest
from hypothesis import given, strategies as st

import oracles
from solutions import (batchnorm_backward, batchnorm_forward, batchnorm_inference, groupnorm_forward,
                       instancenorm_forward, layernorm_backward, layernorm_forward, spatial_batchnorm_backward,
                       spatial_batchnorm_forward, update_running_stats)

EPS = 1e-5


def params(rng, size):
    """Random gamma (away from 1 and from 0) and beta: a test with gamma = 1 could not see it ignored."""
    return rng.uniform(0.5, 2.0, size) * rng.choice([-1, 1], size), rng.standard_normal(size)


def data(rng, shape):
    """Inputs with a non-zero mean and a non-unit scale per feature, so normalising has work to do."""
    return 3.0 * rng.standard_normal(shape) + 1.5


# batchnorm_forward ----------------------------------------------------------------------------

def test_batchnorm_forward_worked_example():
    x = np.array([[1.0], [3.0]])   # mean 2, biased var 1
    out, mean, var = batchnorm_forward(x, np.array([2.0]), np.array([0.5]), eps=0.0)
    np.testing.assert_allclose(out, [[-1.5], [2.5]])
    np.testing.assert_allclose(mean, [2.0])
    np.testing.assert_allclose(var, [1.0])


def test_batchnorm_forward_equals_brute_force(rng):
    x = data(rng, (6, 4))
    gamma, beta = params(rng, 4)
    out, _, _ = batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, oracles.batchnorm(x, gamma, beta, EPS), rtol=1e-10, atol=1e-12)


def test_batchnorm_forward_returns_batch_mean_and_biased_variance(rng):
    x = data(rng, (5, 3))
    _, mean, var = batchnorm_forward(x, *params(rng, 3))
    for d in range(3):
        column = x[:, d].tolist()
        np.testing.assert_allclose(mean[d], statistics.fmean(column), rtol=1e-12)
        np.testing.assert_allclose(var[d], statistics.pvariance(column), rtol=1e-10)


def test_batchnorm_forward_puts_eps_inside_the_square_root():
    x = np.array([[0.0], [2.0]])   # var 1: the output is +-1/sqrt(1 + eps)
    out, _, _ = batchnorm_forward(x, np.ones(1), np.zeros(1), eps=0.5)
    np.testing.assert_allclose(out, [[-1 / np.sqrt(1.5)], [1 / np.sqrt(1.5)]])


def test_batchnorm_forward_of_a_constant_feature_is_beta():
    out, _, _ = batchnorm_forward(np.full((4, 2), 7.0), np.array([3.0, -2.0]), np.array([0.25, 1.0]))
    np.testing.assert_allclose(out, np.tile([0.25, 1.0], (4, 1)))


def test_batchnorm_forward_keeps_float32(rng):
    x = data(rng, (8, 3)).astype(np.float32)
    gamma, beta = (p.astype(np.float32) for p in params(rng, 3))
    out, mean, var = batchnorm_forward(x, gamma, beta)
    assert out.dtype == mean.dtype == var.dtype == np.float32
    np.testing.assert_allclose(out, oracles.batchnorm(x, gamma, beta, EPS), rtol=1e-4, atol=1e-5)


def test_batchnorm_forward_of_float32_x_and_float64_gamma_is_float64(rng):
    x = data(rng, (4, 2)).astype(np.float32)
    out, _, _ = batchnorm_forward(x, *params(rng, 2))
    assert out.dtype == np.float64


def test_batchnorm_forward_does_not_modify_its_inputs(rng):
    x, (gamma, beta) = data(rng, (4, 3)), params(rng, 3)
    copies = [a.copy() for a in (x, gamma, beta)]
    batchnorm_forward(x, gamma, beta)
    for a, before in zip((x, gamma, beta), copies):
        np.testing.assert_array_equal(a, before)


def test_batchnorm_forward_rejects_gamma_of_the_wrong_length():
    with pytest.raises(ValueError, match="gamma"):
        batchnorm_forward(np.ones((4, 3)), np.ones(2), np.zeros(3))


def test_batchnorm_forward_rejects_an_nchw_input():
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        batchnorm_forward(np.ones((2, 3, 4, 4)), np.ones(3), np.zeros(3))


# update_running_stats / batchnorm_inference ------------------------------------------------------

def test_update_running_stats_worked_example():
    # mean: 0.9*0 + 0.1*2 = 0.2; var: 0.9*1 + 0.1*(3 * 4/3) = 1.3.
    new_mean, new_var = update_running_stats(np.zeros(1), np.ones(1), np.array([2.0]), np.array([3.0]), n=4)
    np.testing.assert_allclose(new_mean, [0.2])
    np.testing.assert_allclose(new_var, [1.3])


def test_update_running_stats_uses_the_unbiased_variance_of_the_batch(rng):
    x = data(rng, (6, 3))
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    _, mean, var = batchnorm_forward(x, *params(rng, 3))
    new_mean, new_var = update_running_stats(running_mean, running_var, mean, var, n=6, momentum=0.25)
    for d in range(3):
        column = x[:, d].tolist()
        np.testing.assert_allclose(new_mean[d], 0.75 * running_mean[d] + 0.25 * statistics.fmean(column))
        np.testing.assert_allclose(new_var[d], 0.75 * running_var[d] + 0.25 * statistics.variance(column))


def test_update_running_stats_does_not_modify_the_running_arrays(rng):
    running_mean, running_var = rng.standard_normal(2), rng.uniform(1, 2, 2)
    copies = running_mean.copy(), running_var.copy()
    update_running_stats(running_mean, running_var, np.ones(2), np.ones(2), n=5)
    np.testing.assert_array_equal(running_mean, copies[0])
    np.testing.assert_array_equal(running_var, copies[1])


@pytest.mark.parametrize("n", [1, 0, -3])
def test_update_running_stats_rejects_fewer_than_two_values(n):
    with pytest.raises(ValueError, match="n must be >= 2"):
        update_running_stats(np.zeros(2), np.ones(2), np.zeros(2), np.ones(2), n=n)


def test_update_running_stats_rejects_a_non_integer_n():
    with pytest.raises(ValueError, match="n must be an int"):
        update_running_stats(np.zeros(2), np.ones(2), np.zeros(2), np.ones(2), n=4.0)


def test_update_running_stats_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="var"):
        update_running_stats(np.zeros(2), np.ones(2), np.zeros(2), np.ones(3), n=4)


def test_update_running_stats_follows_torch_batchnorm2d(rng):
    torch = pytest.importorskip("torch")
    x = data(rng, (4, 3, 5, 2))
    layer = torch.nn.BatchNorm2d(3, momentum=0.1).double().train()
    layer(torch.from_numpy(x))
    per_channel = x.transpose(1, 0, 2, 3).reshape(3, -1)
    new_mean, new_var = update_running_stats(np.zeros(3), np.ones(3), per_channel.mean(1), per_channel.var(1),
                                             n=4 * 5 * 2)
    np.testing.assert_allclose(new_mean, layer.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(new_var, layer.running_var.numpy(), rtol=1e-10)


def test_batchnorm_inference_normalises_with_the_running_statistics(rng):
    x, (gamma, beta) = data(rng, (3, 4)), params(rng, 4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 3, 4)
    out = batchnorm_inference(x, gamma, beta, rm, rv)
    for n in range(3):
        for d in range(4):
            np.testing.assert_allclose(out[n, d], gamma[d] * (x[n, d] - rm[d]) / (rv[d] + EPS) ** 0.5 + beta[d],
                                       rtol=1e-10)


def test_batchnorm_inference_on_nchw_uses_one_statistic_per_channel(rng):
    x, (gamma, beta) = data(rng, (2, 3, 2, 4)), params(rng, 3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 3, 3)
    out = batchnorm_inference(x, gamma, beta, rm, rv)
    for c in range(3):
        np.testing.assert_allclose(out[:, c], gamma[c] * (x[:, c] - rm[c]) / np.sqrt(rv[c] + EPS) + beta[c],
                                   rtol=1e-10)


def test_batchnorm_inference_with_the_batch_statistics_equals_training_mode(rng):
    x, (gamma, beta) = data(rng, (5, 3)), params(rng, 3)
    out, mean, var = batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(batchnorm_inference(x, gamma, beta, mean, var), out, rtol=1e-10, atol=1e-12)


def test_batchnorm_inference_keeps_float32(rng):
    x = data(rng, (3, 2)).astype(np.float32)
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    assert batchnorm_inference(x, ones, zeros, zeros, ones).dtype == np.float32


def test_batchnorm_inference_rejects_running_stats_of_the_wrong_length():
    with pytest.raises(ValueError, match="running_var"):
        batchnorm_inference(np.ones((2, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(2))


# backward (numerical gradients) -------------------------------------------------------------------

def check_norm_backward(forward, backward, x, gamma, beta, dout):
    """dx, dgamma, dbeta of backward against centred differences of forward, all three random."""
    dx, dgamma, dbeta = backward(dout, x, gamma)
    np.testing.assert_allclose(dx, oracles.numerical_gradient(lambda v: forward(v, gamma, beta), x, dout),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dgamma, oracles.numerical_gradient(lambda g: forward(x, g, beta), gamma, dout),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dbeta, oracles.numerical_gradient(lambda b: forward(x, gamma, b), beta, dout),
                               rtol=1e-5, atol=1e-7)


def batchnorm_out(x, gamma, beta):
    return batchnorm_forward(x, gamma, beta)[0]


@pytest.mark.parametrize("shape", [(5, 4), (2, 3), (7, 1)])
def test_batchnorm_backward_equals_numerical_gradient(rng, shape):
    x, (gamma, beta), dout = data(rng, shape), params(rng, shape[1]), rng.standard_normal(shape)
    check_norm_backward(batchnorm_out, batchnorm_backward, x, gamma, beta, dout)


@pytest.mark.parametrize("shape", [(4, 5), (3, 2), (1, 6)])
def test_layernorm_backward_equals_numerical_gradient(rng, shape):
    x, (gamma, beta), dout = data(rng, shape), params(rng, shape[1]), rng.standard_normal(shape)
    check_norm_backward(layernorm_forward, layernorm_backward, x, gamma, beta, dout)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 1, 3), (1, 1, 3, 3)])
def test_spatial_batchnorm_backward_equals_numerical_gradient(rng, shape):
    x, (gamma, beta), dout = data(rng, shape), params(rng, shape[1]), rng.standard_normal(shape)
    check_norm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward, x, gamma, beta, dout)


@pytest.mark.parametrize("backward, shape", [(batchnorm_backward, (4, 3)), (layernorm_backward, (4, 3)),
                                             (spatial_batchnorm_backward, (2, 3, 2, 2))])
def test_norm_backward_keeps_float32(rng, backward, shape):
    x, dout = data(rng, shape), rng.standard_normal(shape)
    gamma = params(rng, shape[1])[0]
    grads32 = backward(dout.astype(np.float32), x.astype(np.float32), gamma.astype(np.float32))
    grads64 = backward(dout, x, gamma)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backward, shape", [(batchnorm_backward, (4, 3)), (layernorm_backward, (4, 3)),
                                             (spatial_batchnorm_backward, (2, 3, 2, 2))])
def test_norm_backward_does_not_modify_its_inputs(rng, backward, shape):
    x, dout, gamma = data(rng, shape), rng.standard_normal(shape), params(rng, shape[1])[0]
    copies = [a.copy() for a in (dout, x, gamma)]
    backward(dout, x, gamma)
    for a, before in zip((dout, x, gamma), copies):
        np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("backward", [batchnorm_backward, layernorm_backward])
def test_norm_backward_rejects_dout_of_the_wrong_shape(backward):
    with pytest.raises(ValueError, match="dout must have shape"):
        backward(np.ones((3, 2)), np.ones((4, 2)), np.ones(2))


@given(N=st.integers(2, 4), D=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_batchnorm_and_layernorm_backward_equal_numerical_gradient_for_any_shape(N, D, seed):
    rng = np.random.default_rng(seed)
    x, (gamma, beta), dout = data(rng, (N, D)), params(rng, D), rng.standard_normal((N, D))
    check_norm_backward(batchnorm_out, batchnorm_backward, x, gamma, beta, dout)
    check_norm_backward(layernorm_forward, layernorm_backward, x, gamma, beta, dout)


# spatial batchnorm, layer norm, group norm, instance norm (forward) -------------------------------

def test_spatial_batchnorm_forward_equals_brute_force(rng):
    x, (gamma, beta) = data(rng, (3, 2, 4, 3)), params(rng, 2)
    np.testing.assert_allclose(spatial_batchnorm_forward(x, gamma, beta),
                               oracles.spatial_batchnorm(x, gamma, beta, EPS), rtol=1e-10, atol=1e-12)


def test_spatial_batchnorm_with_every_channel_in_its_own_chunk_equals_the_oracles(one_chunk_per_item, rng):
    shape = (2, 5, 3, 4)
    x, (gamma, beta), dout = data(rng, shape), params(rng, shape[1]), rng.standard_normal(shape)
    np.testing.assert_allclose(spatial_batchnorm_forward(x, gamma, beta),
                               oracles.spatial_batchnorm(x, gamma, beta, EPS), rtol=1e-10, atol=1e-12)
    check_norm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward, x, gamma, beta, dout)


def test_spatial_batchnorm_is_batchnorm_over_pixels_as_rows(rng):
    x, (gamma, beta) = data(rng, (2, 3, 4, 5)), params(rng, 3)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    expected = oracles.batchnorm(rows, gamma, beta, EPS).reshape(2, 4, 5, 3).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(spatial_batchnorm_forward(x, gamma, beta), expected, rtol=1e-10, atol=1e-12)


def test_layernorm_forward_equals_brute_force(rng):
    x, (gamma, beta) = data(rng, (4, 6)), params(rng, 6)
    np.testing.assert_allclose(layernorm_forward(x, gamma, beta), oracles.layernorm(x, gamma, beta, EPS),
                               rtol=1e-10, atol=1e-12)


def test_layernorm_forward_works_on_a_single_sample(rng):
    # Unlike batch norm, statistics come from the sample itself: N = 1 is fine.
    x, (gamma, beta) = data(rng, (1, 5)), params(rng, 5)
    np.testing.assert_allclose(layernorm_forward(x, gamma, beta), oracles.layernorm(x, gamma, beta, EPS),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, groups", [((2, 4, 3, 3), 2), ((1, 6, 2, 5), 3), ((2, 6, 3, 2), 1),
                                           ((2, 3, 2, 2), 3)])
def test_groupnorm_forward_equals_brute_force(rng, shape, groups):
    x, (gamma, beta) = data(rng, shape), params(rng, shape[1])
    np.testing.assert_allclose(groupnorm_forward(x, gamma, beta, groups),
                               oracles.groupnorm(x, gamma, beta, groups, EPS), rtol=1e-10, atol=1e-12)


def test_groupnorm_with_one_group_is_layer_norm_over_chw(rng):
    N, C, H, W = 2, 3, 4, 2
    x, (gamma, beta) = data(rng, (N, C, H, W)), params(rng, C)
    # Layer norm of the flattened sample, with each channel's gamma/beta repeated over its pixels.
    expected = layernorm_forward(x.reshape(N, -1), np.repeat(gamma, H * W), np.repeat(beta, H * W))
    np.testing.assert_allclose(groupnorm_forward(x, gamma, beta, 1), expected.reshape(x.shape),
                               rtol=1e-10, atol=1e-12)


def test_groupnorm_with_c_groups_is_instance_norm(rng):
    x, (gamma, beta) = data(rng, (2, 4, 3, 3)), params(rng, 4)
    np.testing.assert_allclose(groupnorm_forward(x, gamma, beta, 4), instancenorm_forward(x, gamma, beta),
                               rtol=1e-10, atol=1e-12)


def test_instancenorm_forward_normalises_each_sample_and_channel_over_its_pixels(rng):
    x, (gamma, beta) = data(rng, (2, 3, 4, 5)), params(rng, 3)
    out = instancenorm_forward(x, gamma, beta)
    for n in range(2):
        for c in range(3):
            pixels = x[n, c].ravel().tolist()
            expected = [gamma[c] * v + beta[c] for v in oracles.normalize(pixels, EPS)]
            np.testing.assert_allclose(out[n, c].ravel(), expected, rtol=1e-10, atol=1e-12)


@given(N=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 3), H=st.integers(1, 4),
       W=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_groupnorm_forward_equals_brute_force_for_any_shape(N, groups, per_group, H, W, seed):
    rng = np.random.default_rng(seed)
    C = groups * per_group
    x, (gamma, beta) = data(rng, (N, C, H, W)), params(rng, C)
    np.testing.assert_allclose(groupnorm_forward(x, gamma, beta, groups),
                               oracles.groupnorm(x, gamma, beta, groups, EPS), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("forward", [spatial_batchnorm_forward, instancenorm_forward,
                                     lambda x, g, b: groupnorm_forward(x, g, b, 2)])
def test_nchw_norms_keep_float32(rng, forward):
    x = data(rng, (2, 4, 3, 3)).astype(np.float32)
    gamma, beta = (p.astype(np.float32) for p in params(rng, 4))
    out = forward(x, gamma, beta)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, forward(x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64)),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("forward", [spatial_batchnorm_forward, instancenorm_forward, layernorm_forward])
def test_norm_forward_does_not_modify_x(rng, forward):
    x = data(rng, (2, 3, 2, 2)) if forward is not layernorm_forward else data(rng, (2, 3))
    before = x.copy()
    forward(x, *params(rng, 3))
    np.testing.assert_array_equal(x, before)


def test_groupnorm_rejects_groups_that_do_not_divide_c():
    with pytest.raises(ValueError, match="C=6 channels cannot be split into 4 equal groups"):
        groupnorm_forward(np.ones((1, 6, 2, 2)), np.ones(6), np.zeros(6), 4)


@pytest.mark.parametrize("groups", [0, 1.5])
def test_groupnorm_rejects_groups_that_are_not_a_positive_int(groups):
    with pytest.raises(ValueError, match="groups"):
        groupnorm_forward(np.ones((1, 6, 2, 2)), np.ones(6), np.zeros(6), groups)


def test_spatial_batchnorm_rejects_gamma_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"gamma \(C,\)"):
        spatial_batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(4), np.zeros(3))


def test_norms_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x4, (g, b) = data(rng, (3, 4, 5, 2)), params(rng, 4)
    t4, tg, tb = torch.from_numpy(x4), torch.from_numpy(g), torch.from_numpy(b)
    np.testing.assert_allclose(spatial_batchnorm_forward(x4, g, b),
                               F.batch_norm(t4, None, None, tg, tb, training=True, eps=EPS).numpy(),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(groupnorm_forward(x4, g, b, 2), F.group_norm(t4, 2, tg, tb, eps=EPS).numpy(),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(instancenorm_forward(x4, g, b),
                               F.instance_norm(t4, weight=tg, bias=tb, eps=EPS).numpy(), rtol=1e-8, atol=1e-10)
    x2, (g2, b2) = data(rng, (3, 6)), params(rng, 6)
    np.testing.assert_allclose(layernorm_forward(x2, g2, b2),
                               F.layer_norm(torch.from_numpy(x2), (6,), torch.from_numpy(g2), torch.from_numpy(b2),
                                            eps=EPS).numpy(), rtol=1e-8, atol=1e-10)


def test_norm_gradients_match_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    x, (g, b) = data(rng, (3, 4, 2, 3)), params(rng, 4)
    dout = rng.standard_normal(x.shape)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, g, b))
    out = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS)
    grads = torch.autograd.grad(out, (tx, tg, tb), torch.from_numpy(dout))
    for ours, theirs in zip(spatial_batchnorm_backward(dout, x, g), grads):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-8, atol=1e-10)
